#!/usr/bin/env python3
"""Run the article's five queries (the README's) against a running, seeded
talentgraph and check each claim. Used by CI against the container image and by
scripts/container-check.sh; works against any instance, e.g. `serve --seed`.

Usage: scripts/article-queries.py [BASE_URL] [--wait SECONDS]
  BASE_URL  defaults to http://127.0.0.1:8080
  --wait    first poll BASE_URL/readyz for up to SECONDS until it answers 200

Standard library only; exits 1 on the first claim that does not hold.
"""

import json
import sys
import time
import urllib.error
import urllib.request


def post(base, query):
    request = urllib.request.Request(
        base + "/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    if body.get("errors"):
        raise AssertionError(f"errors: {json.dumps(body['errors'])}")
    return body["data"]


def wait_ready(base, seconds):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last = error
        time.sleep(0.5)
    raise SystemExit(f"{base}/readyz did not answer 200 within {seconds} s (last: {last})")


def names(items):
    return [item["name"] for item in items]


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def retention(base):
    data = post(base, '{ publication(slug: "llama-2023") { retention(organization: "meta") '
                      '{ total stayed { name } left { name } } } }')
    r = data["publication"]["retention"]
    expect(r["total"], 14, "authors")
    expect(sorted(names(r["stayed"])), ["Faisal Azhar", "Hugo Touvron", "Xavier Martinet"], "stayed")
    expect(len(r["left"]), 11, "left")
    return "3 of the LLaMA paper's 14 authors stayed at Meta, 11 left"


def destinations(base):
    data = post(base, '{ publication(slug: "llama-2023") { retention(organization: "meta") { '
                      'destinations { to { name } count people { name currentEmployments '
                      '{ title organization { name } } } } } } }')
    flows = data["publication"]["retention"]["destinations"]
    expect([(f["to"]["name"], f["count"]) for f in flows], [
        ("Mistral AI", 5), ("Anthropic", 1), ("Cohere", 1), ("Google DeepMind", 1),
        ("Kyutai", 1), ("Microsoft AI", 1), ("Thinking Machines Lab", 1),
    ], "destinations")
    for flow in flows:
        for person in flow["people"]:
            now = person["currentEmployments"][0]
            expect(now["organization"]["name"], flow["to"]["name"], person["name"])
            if not now["title"]:
                raise AssertionError(f"{person['name']} has no title")
    return "5 went to Mistral AI, 6 to six other organizations, each with a title"


def founders(base):
    data = post(base, '{ organization(slug: "mistral") { founders { name } } }')
    expect(names(data["organization"]["founders"]),
           ["Arthur Mensch", "Guillaume Lample", "Timothée Lacroix"], "founders")
    return "Mistral's co-founders: Mensch, Lample, Lacroix"


def leadership(base):
    data = post(base, '{ organization(slug: "fair") { parent { name } leaders { title isCurrent '
                      'reportedYears person { name employments { organization { name } isFounder '
                      'isCurrent reportedYears } } } } }')
    fair = data["organization"]
    expect(fair["parent"]["name"], "Meta", "FAIR's parent")
    leaders = fair["leaders"]
    expect([l["person"]["name"] for l in leaders], ["Joelle Pineau", "Robert Fergus"], "leaders")
    expect((leaders[0]["isCurrent"], leaders[0]["reportedYears"]), (False, 8), "Pineau")
    expect(leaders[1]["isCurrent"], True, "Fergus leads FAIR now")
    fergus = leaders[1]["person"]["employments"]
    expect([(e["organization"]["name"], e["isFounder"], e["reportedYears"]) for e in fergus],
           [("FAIR", True, None), ("Google DeepMind", False, 5), ("FAIR", False, None)],
           "Fergus's career")
    return "Pineau led FAIR ~8 years; Fergus, a FAIR co-founder, replaced her after ~5 at DeepMind"


def talent_flow(base):
    data = post(base, '{ organization(slug: "meta") { talentFlows(direction: OUTBOUND) '
                      '{ to { name } count people { name } } } }')
    flows = data["organization"]["talentFlows"]
    expect((flows[0]["to"]["name"], flows[0]["count"]), ("Mistral AI", 5), "first outbound flow")
    counts = [f["count"] for f in flows]
    expect(counts, sorted(counts, reverse=True), "flows by count")
    return "Meta's outbound flow: Mistral AI first, 5 people"


def main(argv):
    args = list(argv)
    wait = None
    if "--wait" in args:
        i = args.index("--wait")
        wait = float(args[i + 1])
        del args[i:i + 2]
    base = (args[0] if args else "http://127.0.0.1:8080").rstrip("/")
    if wait is not None:
        wait_ready(base, wait)
    claims = [retention, destinations, founders, leadership, talent_flow]
    for number, claim in enumerate(claims, 1):
        try:
            print(f"ok {number} {claim(base)}")
        except (AssertionError, KeyError, IndexError, TypeError, urllib.error.URLError) as error:
            print(f"FAILED {number} {claim.__name__}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
