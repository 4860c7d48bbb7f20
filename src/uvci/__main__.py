from uvci.cli import main

raise SystemExit(main())
