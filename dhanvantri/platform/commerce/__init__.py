"""Commerce use cases: catalogue and pharmacy stock, orders and delivery, labs, payments, the
wallet, merchant settlement and idempotent requests.

Each is a function (or, for payments, a ``Cashier`` method) that takes a ``UnitOfWork``,
changes domain objects through their methods and audits the change in the same transaction.
"""
