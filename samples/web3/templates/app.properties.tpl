# app.properties — written by CFM on every app server of web3 (template: samples/web3/web3.ovf,
# `app-properties`). Variables: db_primary, db_standby (addresses), db_port, db_name, pool_size,
# extra (a map of further settings).
db.primary=jdbc:postgresql://{{ db_primary }}:{{ db_port }}/{{ db_name }}
db.standby=jdbc:postgresql://{{ db_standby }}:{{ db_port }}/{{ db_name }}
db.pool.size={{ pool_size }}
{% for k, v in extra %}
{{ k }}={{ v }}
{% end %}
{% if pool_size > 16 %}
# large pool: keep connections warm
db.pool.min_idle={{ pool_size / 4 }}
{% end %}
