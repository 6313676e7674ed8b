"""Knowledge-base pages for readers: category listing, search, article, helpful votes."""
