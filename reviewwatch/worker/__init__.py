"""Stage work through a broker: the Celery application, its stage tasks, the scheduler's dispatch
and what a worker process keeps (its store, its crawl engine, its loaded model, its metrics).

The application layer owns this package: tasks call the cycle's stages (reviewwatch), which call
the store, the crawler and the model; nothing below imports it. Celery loads only when a broker
is configured (`workers.broker_url`); without one, every stage runs in the scheduler's process.
"""
