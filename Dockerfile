# sasquatch container image.
#
# Base images are pinned by exact tag. To refresh them: pick the newest
# golang:<go version>-bookworm tag matching the "go" line of go.mod and the
# newest debian:<12.x>-slim point release, update both FROM lines below, run
# `npx dockerfilelint@1.8.0 Dockerfile` and the tests, and commit.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sasquatch ./cmd/sasquatch

FROM debian:12.12-slim
# git makes history scans faster (hardened git cat-file); ca-certificates for GitHub over HTTPS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/sasquatch sasquatch
COPY --from=build /out/sasquatch /usr/local/bin/sasquatch
USER sasquatch
WORKDIR /home/sasquatch
ENTRYPOINT ["/usr/local/bin/sasquatch"]
# The image is the worker of distributed sweeps (deploy/kubernetes); any other
# command can be given instead, e.g. `docker run IMAGE scan /src`.
CMD ["worker"]
