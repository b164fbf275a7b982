# WSGI entry point of CKAN (the wheel ships none), for gunicorn: `gunicorn wsgi:application`.
# CKAN_INI names the configuration. Logging is set up by gunicorn from the same ini
# (--log-config), not here: a fileConfig() in the worker would close gunicorn's own handlers,
# and with them the access log. Used by the CKAN image and the CKAN test peers (tests/ckan).
import os

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

application = make_app(CKANConfigLoader(os.environ["CKAN_INI"]).get_config())
