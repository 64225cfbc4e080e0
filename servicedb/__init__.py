"""The service database: typed SQLAlchemy 2 models, Alembic migrations, engines, value types.

Every site (central and each hall) runs the same schema; rows that cross sites carry a
globally unique id and the id of the site that made them (see ``servicedb.base``).
"""
