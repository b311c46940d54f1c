#!/usr/bin/env bash
# Build the image and run it against PostgreSQL in containers: it must migrate, turn healthy
# by its own HEALTHCHECK, run as a plain user and stop cleanly. Needs a Docker engine;
# .ci/run calls it wherever `docker info` answers.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=social-shop:check
run=social-shop-check-$$
made_env=
cleanup() {
  docker rm -f "$run-bot" "$run-db" >/dev/null 2>&1 || true
  docker network rm "$run" >/dev/null 2>&1 || true
  if [ -n "$made_env" ]; then rm -f .env; fi
}
trap cleanup EXIT

if docker compose version >/dev/null 2>&1; then
  if [ ! -e .env ]; then cp .env.example .env && made_env=1; fi
  docker compose --profile scale config --quiet
  echo "image check: compose.yaml (with the scale profile) is valid"
fi

docker build --tag "$tag" .
docker network create "$run" >/dev/null
docker run --detach --name "$run-db" --network "$run" --network-alias postgres \
  -e POSTGRES_USER=shop -e POSTGRES_PASSWORD=shop -e POSTGRES_DB=shop postgres:17-alpine >/dev/null
for _ in $(seq 1 60); do  # over TCP: the first-start initialisation server listens on none
  docker exec "$run-db" pg_isready -q -h 127.0.0.1 -U shop -d shop && break
  sleep 1
done
docker run --detach --name "$run-bot" --network "$run" \
  -e DATABASE_URL=postgresql+asyncpg://shop:shop@postgres:5432/shop "$tag" >/dev/null

status=starting
for _ in $(seq 1 60); do
  status=$(docker inspect --format '{{.State.Health.Status}}' "$run-bot")
  [ "$status" = starting ] && [ "$(docker inspect --format '{{.State.Running}}' "$run-bot")" = true ] || break
  sleep 2
done
uid=$(docker exec "$run-bot" id -u || echo "?")
docker stop --time 20 "$run-bot" >/dev/null
code=$(docker inspect --format '{{.State.ExitCode}}' "$run-bot")
docker logs "$run-bot" 2>&1 | tail -n 20

if [ "$status" != healthy ] || [ "$uid" = 0 ] || [ "$code" != 0 ]; then
  echo "image check FAILED: health $status, user id $uid, exit code $code"
  exit 1
fi
echo "image check: built, migrated PostgreSQL, healthy, user id $uid, stopped with exit code 0"
