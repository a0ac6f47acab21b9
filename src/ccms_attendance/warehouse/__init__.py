"""The PostgreSQL warehouse: schema migrations, SQL files, bulk I/O, and an embedded server."""
