"""The DVC adapter: DVC's own files, configuration and cache read directly (`files`, `config`,
`objects`), the dvc library or command only for remotes flowwarden cannot read (`remote`).

This package imports nothing: the commit path loads only the modules a staged DVC file needs.
"""
