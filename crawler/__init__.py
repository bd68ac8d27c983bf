"""Scrapy spiders and pipelines that bring public reviews and posts into the store (`crawl.*`)."""
