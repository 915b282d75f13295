"""Generates the ARIMA fixtures rill's forecasting tests compare against.

Run with statsmodels pinned (the fixtures record the versions):

    pip install "statsmodels==0.14.5" "pandas<2.4" "numpy<2.4"
    python3 tools/arima_fixtures.py > tests/fixtures/arima.json

Each case: a series simulated from a fixed seed, the order fitted, statsmodels'
estimates (parameters, sigma2, log-likelihood) and its 10-step forecast with 95%
intervals. Not part of the test run: the JSON is committed.
"""

import json
import sys

import numpy as np
import statsmodels
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.arima_process import ArmaProcess

N = 200
H = 10


def arma(ar, ma, n, seed, mean=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    proc = ArmaProcess(np.r_[1, -np.array(ar)], np.r_[1, np.array(ma)])
    return mean + proc.generate_sample(n, scale=scale, distrvs=rng.standard_normal, burnin=200)


def cases():
    rng = np.random.default_rng(7)
    yield "ar1", arma([0.6], [], N, 1, mean=5.0), (1, 0, 0), (0, 0, 0, 0), "c"
    yield "ar2", arma([0.5, -0.3], [], N, 2, mean=-2.0), (2, 0, 0), (0, 0, 0, 0), "c"
    yield "ma1", arma([], [0.4], N, 3, mean=1.0), (0, 0, 1), (0, 0, 0, 0), "c"
    yield "arma11", arma([0.7], [-0.3], N, 4, mean=10.0, scale=2.0), (1, 0, 1), (0, 0, 0, 0), "c"
    yield "arima111", np.cumsum(arma([0.5], [0.3], N, 5)) + 50, (1, 1, 1), (0, 0, 0, 0), "n"
    yield "drift", np.cumsum(0.3 + rng.standard_normal(N)), (0, 1, 0), (0, 0, 0, 0), "t"
    t = np.arange(N)
    seasonal = 20 + 3 * np.sin(2 * np.pi * t / 12) + arma([0.5], [], N, 6)
    yield "seasonal12", seasonal, (1, 0, 0), (1, 0, 0, 12), "c"
    outlier = arma([0.5], [], N, 8, mean=3.0)
    outlier[120] += 12.0
    yield "outlier", outlier, (1, 0, 0), (0, 0, 0, 0), "c"


def main():
    out = {"statsmodels": statsmodels.__version__, "numpy": np.__version__, "horizon": H, "cases": []}
    for name, y, order, seasonal, trend in cases():
        res = ARIMA(y, order=order, seasonal_order=seasonal, trend=trend).fit()
        fc = res.get_forecast(H)
        ci = fc.conf_int(alpha=0.05)
        out["cases"].append(
            {
                "name": name,
                "order": list(order),
                "seasonal_order": list(seasonal),
                "trend": trend,
                "series": [float(v) for v in y],
                "param_names": list(res.model.param_names),
                "params": [float(v) for v in res.params],
                "sigma2": float(res.params[-1]),
                "llf": float(res.llf),
                "forecast": [float(v) for v in fc.predicted_mean],
                "lower": [float(v) for v in ci[:, 0]],
                "upper": [float(v) for v in ci[:, 1]],
            }
        )
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
