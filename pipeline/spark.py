"""Scoring a dataset on Apache Spark with a logged model (`stance score-spark`): MLflow's `spark_udf` runs
the model's pyfunc (pipeline.serving) on the executors and adds `label` and the three probabilities to
every row; the output is Parquet, one file per partition. On a cluster, `spark-submit pipeline/cli.py
score-spark ...` with the project installed on the executors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipeline.files import InputError
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN
from pipeline.models.outputs import PROBABILITY_COLUMNS

RESULT_TYPE = "label string, " + ", ".join(f"{column} double" for column in PROBABILITY_COLUMNS)
INPUT_TYPES = (".parquet", ".csv")


def check_paths(source: str, destination: str) -> None:
    """Before Spark starts: an input it can read, and an output that would not overwrite anything."""
    path = Path(source)
    if "://" not in source:
        if not path.exists():
            raise InputError(f"{source}: no such file or folder")
        if path.is_file() and path.suffix.lower() not in INPUT_TYPES:
            raise InputError(f"{source}: unsupported input type '{path.suffix}'; use .parquet or .csv")
    if "://" not in destination and Path(destination).exists():
        raise InputError(f"{destination}: already exists; Spark writes a new folder (remove it, or name "
                         "another)")


def read_dataset(spark, source: str, text_column: str):
    """A Parquet or CSV (header, quoted multi-line fields) file or folder, with its text column checked."""
    reader = spark.read
    if source.lower().rstrip("/").endswith(".csv"):
        frame = reader.csv(source, header=True, multiLine=True, escape='"')
    else:
        frame = reader.parquet(source)
    if text_column not in frame.columns:
        raise InputError(f"{source}: no column '{text_column}' (columns: {', '.join(frame.columns)})")
    return frame


def check_model(model_uri: str) -> None:
    """A model whose pyfunc gives labels and probabilities (logged by this version of the pipeline)."""
    from mlflow.models import get_model_info

    from pipeline import serving, tracking

    with tracking.talking_to_mlflow(f"cannot load {model_uri}"):
        tracking.connect()
        loader = get_model_info(model_uri).flavors.get("python_function", {}).get("loader_module")
    if loader != serving.__name__:  # the loader tracking.log_model names
        raise InputError(f"{model_uri}: logged before models gave probabilities to MLflow (its pyfunc is "
                         f"{loader}); run `dvc repro` to register the model again, and use that version")


def score_dataset(spark, source: str, destination: str, model_uri: str, text_column: str = TEXT_COLUMN):
    import mlflow
    from pyspark.sql import functions as F

    frame = read_dataset(spark, source, text_column)
    cores = spark.sparkContext.defaultParallelism
    if frame.rdd.getNumPartitions() < cores:  # a single file is read as one partition: one busy core
        frame = frame.repartition(cores)
    stance = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=RESULT_TYPE, env_manager="local")
    inputs = [F.col(text_column).alias(TEXT_COLUMN)]
    if TARGET_COLUMN in frame.columns:
        inputs.append(F.col(TARGET_COLUMN))
    scored = frame.withColumn("_stance", stance(F.struct(*inputs)))
    scored.select(*frame.columns, *(F.col(f"_stance.{name}").alias(name)
                                    for name in ["label", *PROBABILITY_COLUMNS])).write.parquet(destination)


def score_with_spark(source: str, destination: str, model_uri: str, text_column: str = TEXT_COLUMN,
                     master: str | None = None) -> None:
    check_paths(source, destination)
    check_model(model_uri)
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("score-spark needs PySpark: pip install -e '.[spark]' (make setup installs it)") \
            from None
    # The executors' Python is this one, so the model loads with the same packages (env_manager="local").
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("stance score-spark")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("FATAL")  # a failed task is reported below in one line, not a Java trace
    try:
        score_dataset(spark, source, destination, model_uri, text_column)
    except (PySparkException, Py4JJavaError) as err:
        first = next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)
        raise InputError(f"Spark could not score {source}: {first[:500]}") from None
    finally:
        spark.stop()
    print(f"scored {source} -> {destination} (Parquet) with {model_uri}", file=sys.stderr)

