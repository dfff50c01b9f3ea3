"""The WSGI application gunicorn serves. Production settings unless DJANGO_SETTINGS_MODULE
says otherwise (the same rule as crm/celery.py, which `import crm` runs first)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")
application = get_wsgi_application()
