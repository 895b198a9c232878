"""moto's EventBridge pattern matcher, in batch, for test/support/moto-event-pattern.ts.

Reads {"patterns": [pattern, ...], "events": [event, ...]} (JSON) on stdin and writes, for each pattern, either
{"error": "<why moto's EventPattern.load refused it>"} or {"matches": [bool per event]}, as
{"moto": "<version>", "results": [...]} on stdout. One process for a whole test file: moto is slow to import.
"""
import json
import sys

import moto
from moto.events.exceptions import InvalidEventPatternException
from moto.events.models import EventPattern


def evaluate(pattern, events):
    try:
        loaded = EventPattern.load(json.dumps(pattern))
    except InvalidEventPatternException as error:
        return {"error": error.message}
    except Exception as error:  # e.g. a pattern that is not an object: moto fails rather than refuses
        return {"error": f"EventPattern.load raised {type(error).__name__}: {error}"}
    answers = []
    for event in events:
        try:
            answers.append(loaded.matches_event(event))
        except Exception as error:  # moto raising on a pattern it loaded is an answer too
            return {"error": f"matches_event raised {type(error).__name__}: {error}"}
    return {"matches": answers}


def main():
    request = json.load(sys.stdin)
    results = [evaluate(pattern, request["events"]) for pattern in request["patterns"]]
    json.dump({"moto": moto.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
