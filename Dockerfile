FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH RIVAL_VAR_DIR=/srv/var
RUN pip install --no-cache-dir uv && useradd --create-home --uid 1000 rival
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
RUN mkdir -p /srv/var && SECRET_KEY=collectstatic python manage.py collectstatic --noinput \
    && chown -R rival /srv/var
USER rival
EXPOSE 8000
CMD ["gunicorn", "rival.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
