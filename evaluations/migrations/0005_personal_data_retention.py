# The retention of personal data (DOMAIN.md §8): grids mark when their content was effaced,
# the grid journal names that act, and the register of exports and purges.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('candidates', '0004_list_order_indexes'),
        ('evaluations', '0004_grid_summary'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='grid',
            name='purged_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='contenu effacé le'),
        ),
        migrations.AlterField(
            model_name='gridevent',
            name='action',
            field=models.CharField(choices=[('created', 'Grille créée'), ('changed', 'Modification'), ('submitted', 'Passée à la signature'), ('back_to_draft', 'Retour en brouillon'), ('signed', 'Signature'), ('signature_voided', 'Signature invalidée'), ('locked', 'Grille verrouillée'), ('reopened', 'Réouverture'), ('incident', 'Incident'), ('incident_resolved', 'Incident résolu'), ('attendance', 'Présence du candidat'), ('document', 'Document généré'), ('purged', 'Contenu effacé (durée de conservation)')], max_length=30, verbose_name='action'),
        ),
        migrations.CreateModel(
            name='PersonalDataEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('exported', 'Export des données personnelles (RGPD)'), ('purged', 'Données effacées (fin de la durée de conservation)')], max_length=20, verbose_name='action')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date')),
                ('data', models.JSONField(blank=True, default=dict, verbose_name='détail')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='auteur')),
                ('candidate', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='candidates.candidate', verbose_name='candidat')),
                ('registration', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='candidates.registration', verbose_name='inscription')),
            ],
            options={
                'verbose_name': 'traitement de données personnelles',
                'verbose_name_plural': 'registre des données personnelles',
                'ordering': ['at', 'pk'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('action', 'purged')), fields=('registration',), name='one_purge_per_registration')],
            },
        ),
    ]
