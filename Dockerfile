# The xorgpu worker image. EXTRAS picks optional dependencies: "" (CPU worker),
# "gpu" (CuPy with CUDA 12 libraries from PyPI; the host needs an NVIDIA driver and the
# NVIDIA container toolkit), or "flower" (the monitoring UI).
#
# Stage 1 builds the wheel, as `pip install .` would; stage 2 installs that wheel and
# nothing of the source tree, so the image runs what a user's install runs
# (tests/test_packaging.py checks that wheel and runs its commands).
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY xorgpu ./xorgpu
COPY cli ./cli
COPY workers ./workers
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ARG EXTRAS=""
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir "$(ls /wheels/xorgpu-*.whl)${EXTRAS:+[$EXTRAS]}" \
 && rm -rf /wheels \
 && useradd --create-home --uid 10001 xorgpu
USER xorgpu
# Caches any user can write (docker-compose.yml runs workers as the results folder's owner)
ENV XORGPU_REDIS_URL=redis://redis:6379/0 NUMBA_CACHE_DIR=/tmp/xorgpu-numba MPLCONFIGDIR=/tmp/xorgpu-matplotlib
CMD ["xorgpu", "worker"]
