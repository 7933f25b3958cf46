from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector; the embedded PostgreSQL has it already, an external server needs it installed."""

    initial = True
    dependencies = []
    operations = [VectorExtension()]
