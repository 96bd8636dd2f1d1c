"""The fulfillment context: the work a location and a carrier do (`fulfilling`, `scans`,
`delays`), the stock it moves (`stock`), receipts serving backorders (`receiving`) and
re-sourcing rejected work (`resourcing`).

May use: kernel, access, catalog, inventory, orders, sourcing.
"""
