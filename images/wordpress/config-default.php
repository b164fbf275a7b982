<?php
/* ghcr.io/mediana-dev/wordpress: the configuration comes from the environment, as in the
 * official image. Keys and salts should be given (a Secret); without them they are derived
 * from the database password, so every replica agrees and sessions survive restarts. */
function mediana_env($name, $default = null) {
    $value = getenv($name);
    if ($value === false || $value === '') {
        if ($default === null) {
            header('HTTP/1.0 500 Internal Server Error');
            error_log("wordpress: the environment variable $name is not set");
            exit("The environment variable $name is not set.\n");
        }
        return $default;
    }
    return $value;
}
define('DB_HOST', mediana_env('WORDPRESS_DB_HOST'));
define('DB_NAME', mediana_env('WORDPRESS_DB_NAME', 'wordpress'));
define('DB_USER', mediana_env('WORDPRESS_DB_USER', 'wordpress'));
define('DB_PASSWORD', mediana_env('WORDPRESS_DB_PASSWORD'));
define('DB_CHARSET', 'utf8mb4');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
          'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {
    define($key, mediana_env("WORDPRESS_$key", hash('sha256', $key . DB_PASSWORD . DB_NAME)));
}
$table_prefix = mediana_env('WORDPRESS_TABLE_PREFIX', 'wp_');
/* Updates come with a new image, never at run time (the root file system is read-only). */
define('DISALLOW_FILE_MODS', true);
