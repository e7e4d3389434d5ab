# The xorgpu worker image. EXTRAS picks optional dependencies: "" (CPU worker),
# "gpu" (CuPy with CUDA 12 libraries from PyPI; the host needs an NVIDIA driver and the
# NVIDIA container toolkit), or "flower" (the monitoring UI).
FROM python:3.11-slim
ARG EXTRAS=""
WORKDIR /app
COPY pyproject.toml README.md ./
COPY xorgpu ./xorgpu
COPY cli ./cli
COPY workers ./workers
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}" \
 && useradd --create-home --uid 10001 xorgpu
USER xorgpu
ENV XORGPU_REDIS_URL=redis://redis:6379/0
CMD ["xorgpu", "worker"]
