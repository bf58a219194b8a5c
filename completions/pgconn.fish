complete --keep-order --exclusive --command pgconn --arguments "(COMPLETE=fish pgconn -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
