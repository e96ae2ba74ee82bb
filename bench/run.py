"""Run every benchmark (bench/bench_*.py, each exposing main(argv) -> markdown) in one run and
write bench/results/latest.md. Usage: python bench/run.py [name ...]"""
import datetime
import importlib
import os
import platform
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)


def main(argv):
    names = argv[1:] or sorted(f[len("bench_"):-3] for f in os.listdir(BENCH)
                               if f.startswith("bench_") and f.endswith(".py"))
    sections = ["# Benchmarks (%s, %s, Python %s, %d cores)\n" % (
        datetime.date.today().isoformat(), platform.machine(), platform.python_version(), os.cpu_count())]
    failed = []
    for name in names:
        module = importlib.import_module("bench_" + name)
        try:
            sections.append(module.main([]))
        except Exception as exc:  # one broken benchmark must not hide the others
            failed.append(name)
            sections.append("## %s\n\nFAILED: %s\n" % (name, exc))
    os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
    with open(os.path.join(BENCH, "results", "latest.md"), "w") as f:
        f.write("\n".join(sections))
    print("\n".join(sections))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
