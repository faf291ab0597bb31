from flowwarden.cli import main

raise SystemExit(main())
