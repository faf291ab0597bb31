from flowwarden.entry.cli import main

raise SystemExit(main())
