"""Alembic environment: runs on the connection tacit hands it (see db.py), or on a URL."""

from alembic import context
from sqlalchemy import create_engine

from knowledge.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # `alembic revision --autogenerate` from a developer's shell, on a sync URL
    url = config.get_main_option("sqlalchemy.url").replace("+aiosqlite", "").replace("+asyncpg", "")
    with create_engine(url).connect() as conn:
        run(conn)
        conn.commit()
