import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("deployments", "0009_snapshot_decision_aids"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("area", models.CharField(help_text="where, in words the public knows; not the camera positions",
                                          max_length=300)),
                ("purpose", models.TextField(max_length=1000)),
                ("more_info", models.TextField(blank=True, help_text="how to find out more: a contact", max_length=1000)),
                ("more_info_url", models.CharField(blank=True, max_length=500)),
                ("published_at", models.DateTimeField()),
                ("deployment", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                    related_name="public_notice", to="deployments.deployment")),
                ("published_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                                   to=settings.AUTH_USER_MODEL)),
            ],
        ),
    ]
