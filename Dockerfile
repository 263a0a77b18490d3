# AnomalyZT silo. Build from the repository root:  docker build -t anomalyzt-silo .
# docker-compose.yml runs three of these in cluster mode; Tests/Deployment/ComposeFileTests.cs checks both files
# against the silo's real configuration keys (there is no Docker engine in CI).

# ---- build ----------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the project files only, so a source change does not re-download packages.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Grains.Interfaces/Grains.Interfaces.csproj Grains.Interfaces/
COPY Grains/Grains.csproj Grains/
COPY Ingest/Ingest.csproj Ingest/
COPY Silo/Silo.csproj Silo/
RUN dotnet restore Silo/Silo.csproj

COPY Grains.Interfaces/ Grains.Interfaces/
COPY Grains/ Grains/
COPY Ingest/ Ingest/
COPY Silo/ Silo/
RUN dotnet publish Silo/Silo.csproj -c Release -o /app --no-restore -p:UseAppHost=false

# ---- runtime --------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime

# The data folder (alerts.jsonl; the SQLite database in embedded mode) is a volume owned by the non-root user.
# Cluster state lives in PostgreSQL; this folder only holds what is local to one silo.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data
VOLUME /data

WORKDIR /app
COPY --from=build /app ./

# Configuration comes only from ANOMALYZT_* variables ("__" separates sections), over appsettings.json.
# appsettings.json listens on 127.0.0.1, which nothing outside the container can reach.
ENV ANOMALYZT_Urls=http://0.0.0.0:8080 \
    ANOMALYZT_State__DataDirectory=/data
EXPOSE 8080

# No HEALTHCHECK here: aspnet:10.0 (Ubuntu 24.04) ships neither curl nor wget (dotnet/dotnet-docker#2379), and
# installing one only for a probe widens the image. docker-compose.yml probes GET /healthz with bash's /dev/tcp.

# 'app' (uid $APP_UID, 1654) is the non-root user the .NET images define.
USER $APP_UID
ENTRYPOINT ["dotnet", "AnomalyZT.Silo.dll"]
