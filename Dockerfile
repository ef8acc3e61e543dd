# The braindrill binary in a small image. The binary is built on the host by
# `cargo build --release` (deploy.sh does it): this machine has no registry to
# fetch a Rust image from, so the image only copies it onto a base.
#
# Without a registry the base is braindrill/base:bookworm, built from Debian's
# packages by images/build.sh. With one, build the ordinary way on Debian's
# official image (same glibc as the host build on bookworm):
#   docker build --build-arg BASE_IMAGE=debian:bookworm-slim -t braindrill .
ARG BASE_IMAGE=braindrill/base:bookworm
FROM ${BASE_IMAGE}
COPY target/release/braindrill /usr/local/bin/braindrill
# The master's HTTP gateway and every node's cluster port.
EXPOSE 8080 1600
# Outside development mode a node needs its own cookie and TLS files (see the
# README, "The cluster link"); to try the image alone:
#   docker run -e CLUSTER_DEVELOPMENT=true -v /var/run/docker.sock:/var/run/docker.sock -p 8080:8080 braindrill
ENTRYPOINT ["/usr/local/bin/braindrill"]
CMD ["standalone"]
