# WordPress from Debian's packages, served by Apache with mod_php on port 8080 as nonroot
# (65532), configured from the environment as the official image is (WORDPRESS_DB_HOST,
# WORDPRESS_DB_NAME, WORDPRESS_DB_USER, WORDPRESS_DB_PASSWORD, WORDPRESS_TABLE_PREFIX and the
# eight WORDPRESS_*_KEY / *_SALT). The root file system stays read-only: Apache's pid file
# and PHP's temporary files go to /tmp, uploads to /var/lib/wordpress/wp-content/uploads (a
# volume). A municipality's own image adds its theme (e.g. Design Comuni) to wp-content/themes.
IMAGE=ghcr.io/mediana-dev/wordpress
TAG=$(apt-cache show --no-all-versions wordpress | sed -n 's/^Version: \([0-9]*\.[0-9]*\).*/\1/p')
PHP=8.2
# minbase: the PHP packages' maintainer scripts write php.ini and enable the modules.
VARIANT=minbase
DEBIAN=(wordpress apache2-bin "libapache2-mod-php$PHP" "php$PHP-mysql" "php$PHP-gd" media-types coreutils)
CONFIG=(--config.user="$NONROOT:$NONROOT"
  --config.entrypoint=/usr/sbin/apache2 --config.entrypoint=-f --config.entrypoint=/etc/mediana/httpd.conf
  --config.entrypoint=-DFOREGROUND --config.exposedports=8080/tcp
  --config.label=org.opencontainers.image.title=wordpress)
assemble() {
  local root=$1
  install -D -m 0644 "$MEDIANA_REPO/images/wordpress/httpd.conf" "$root/etc/mediana/httpd.conf"
  install -D -m 0644 "$MEDIANA_REPO/images/wordpress/config-default.php" "$root/etc/wordpress/config-default.php"
  chown -R "$NONROOT:$NONROOT" "$root/var/lib/wordpress/wp-content/uploads"
}
