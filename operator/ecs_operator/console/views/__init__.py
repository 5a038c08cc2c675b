"""One module per page: its `Page` (what it loads and which fragments update live) and its `Form`s."""
