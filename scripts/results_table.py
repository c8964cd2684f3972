#!/usr/bin/python3
"""Markdown tables for RESULTS.md from `metaadamw compare --json` study files."""
import json
import sys


def pm(s, fmt="{:.4g}"):
    if s["mean"] is None:
        return "n/a"
    return (fmt + " ± " + fmt).format(s["mean"], s["std"])


def main(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            j = json.load(f)
        a, b = j["baseline"], j["candidate"]
        total = sum(r["wall_time_s"] for r in j["runs"])
        tt = j["time_to_target"]

        def ttt(name):
            t = tt[name]
            if t["reached"] == 0:
                return "not reached (0/%d)" % t["of"]
            return "%d/%d runs, %.0f steps, %.0f s" % (t["reached"], t["of"], t["steps_mean"],
                                                      t["seconds_mean"])

        rows.append(j)
        print("### %s (%s preset), %d seeds: %s (%s is better)\n" %
              (j["task"], j["preset"], len(j["seeds"]), j["metric"],
               "higher" if j["higher_is_better"] else "lower"))
        print("| | best %s | final %s | ms/step | run time s | meta-updates |" %
              (j["metric"], j["metric"]))
        print("|---|---|---|---|---|---|")
        for name in (a, b):
            r = j[name]
            extra = "".join("; final %s %s" % (k, pm(v)) for k, v in r["final_extras"].items())
            print("| %s | %s | %s%s | %s | %s | %s |" %
                  (name, pm(r["best"]), pm(r["final"]), extra, pm(r["step_ms"], "{:.1f}"),
                   pm(r["total_s"], "{:.1f}"), pm(r["meta_updates"], "{:.0f}")))
        print("| naive: %s | %.4g | | | | |" % (j["naive"]["name"], j["naive"]["metric"]))
        fmt_p = lambda v: "n/a" if v is None else "%.3g" % v
        print()
        if j.get("primary") == "final":  # the tests are on the final metric
            print("- paired t-test on the final %s (%s − %s): mean difference %.4g, p = %s "
                  "(best %s over the run, chosen on the evaluation split: p = %s)" %
                  (j["metric"], b, a, j["mean_diff"], fmt_p(j["p_value"]), j["metric"],
                   fmt_p(j["p_value_best"])))
        else:  # studies written before: the best metric was the tested one
            print("- paired t-test on the best %s (%s − %s): mean difference %.4g, p = %s "
                  "(final %s: p = %s)" % (j["metric"], b, a, j["mean_diff"],
                                          fmt_p(j["p_value"]), j["metric"],
                                          fmt_p(j["p_value_final"])))
        print("- time ratio %s/%s: total %.3f, per step %.3f" %
              (b, a, j["time_ratio"], j["step_time_ratio"]))
        print("- time to %s's median best (%.4g): %s %s; %s %s" %
              (a, tt["target"], b, ttt(b), a, ttt(a)))
        print("- total time of the study: %.1f min (%d runs)\n" % (total / 60, len(j["runs"])))


if __name__ == "__main__":
    main(sys.argv[1:])
