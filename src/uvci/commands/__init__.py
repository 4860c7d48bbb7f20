"""One module per subcommand (``run(args)``), and the argument handling they share."""
