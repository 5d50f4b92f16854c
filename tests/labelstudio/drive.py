"""Drives a running Label Studio through label-studio-sdk, as a labeller would through its UI: a project
with the batch's labelling config, the batch's tasks imported, annotations submitted, a JSON export.
Runs in the Label Studio venv (.venv-labelstudio), not the project's.

    python drive.py URL TOKEN BATCH_FOLDER ANSWERS_JSON EXPORT_JSON

ANSWERS_JSON maps a sentence's text to the label to submit; a text mapped to null is skipped (cancelled),
one not in the map is left unlabelled. Prints what Label Studio holds, as JSON.
"""

import json
import sys
from pathlib import Path

from label_studio_sdk import LabelStudio


def main() -> None:
    url, token, batch, answers_path, export_path = sys.argv[1:]
    batch, answers = Path(batch), json.loads(Path(answers_path).read_text())
    client = LabelStudio(base_url=url, api_key=token)
    project = client.projects.create(title="stance batch",
                                     label_config=(batch / "labeling_config.xml").read_text())
    tasks = json.loads((batch / "tasks.json").read_text())
    imported = client.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
    predictions = []
    for task in client.tasks.list(project=project.id):
        predictions.extend({"model_version": p.model_version, "score": p.score, "result": p.result}
                           for p in client.predictions.list(task=task.id))
        text = task.data["text"]
        if text not in answers:
            continue
        label = answers[text]
        result = [] if label is None else [{"from_name": "stance", "to_name": "text", "type": "choices",
                                            "value": {"choices": [label]}}]
        client.annotations.create(id=task.id, result=result, was_cancelled=label is None)
    export = client.projects.exports.as_json(project.id)
    Path(export_path).write_text(json.dumps(export, default=str))
    print(json.dumps({"tasks": imported.task_count, "predictions": predictions}))


if __name__ == "__main__":
    main()
