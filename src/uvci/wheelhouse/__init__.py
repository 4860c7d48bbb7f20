"""The wheelhouse: fetching, verifying and building exactly the files a plan's cells install."""
