# Python, the official Elasticsearch client: a log file per data stream, each line with an _id, so that a
# re-run after a failure stores nothing twice.
from elasticsearch import Elasticsearch, helpers

LOGS = {"/var/log/nginx/access.log": "logs-nginx.access-binhdinh", "/var/log/auth.log": "logs-system.auth-binhdinh"}
client = Elasticsearch("https://soc.example.gov.vn/api/v1/ingest/es", api_key="PUSH_TOKEN")
for path, stream in LOGS.items():
    with open(path, encoding="utf-8") as log:
        helpers.bulk(client, ({"_index": stream, "_id": f"web01:{path}:{n}", "message": line.rstrip("\n")}
                              for n, line in enumerate(log)))
