"""The checkout context: the delivery promise a cart is given (`delivery_promise`, sealed options
in `promise`), and placing an order exactly once (`ordering`).

May use: kernel, access, catalog, inventory, orders, sourcing, payments.
"""
