# The mediana operator image: the `mediana` binary on a minimal, non-root runtime.
# The Helm chart and the harvester Jobs run it (image ghcr.io/mediana-dev/mediana:<version>).
#
#   docker build -t ghcr.io/mediana-dev/mediana:0.1.0 .
#
# Stage 1 builds a release binary; stage 2 copies it onto distroless (glibc, CA
# certificates, user 65532 "nonroot", no shell, no package manager).

FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY operator ./operator
COPY tests ./tests
COPY examples ./examples
COPY crds ./crds
RUN cargo build --release --locked --bin mediana \
 && install -D -m 0755 target/release/mediana /out/mediana

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="mediana" \
      org.opencontainers.image.description="Kubernetes operator for the Italian public administration's interregional cloud" \
      org.opencontainers.image.licenses="EUPL-1.2" \
      org.opencontainers.image.source="https://github.com/mediana-dev/mediana"
COPY --from=build /out/mediana /usr/local/bin/mediana
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/mediana"]
CMD ["run"]
