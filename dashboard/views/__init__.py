"""The dashboard's pages: each ``render(ctx)`` draws one page (thin glue over the domain)."""
