"""The report process: when, where and what is reported.

Reports form a Poisson process whose rate is constant within each hour of the local day:
``reports_per_day × hourly_profile[h] / sum(hourly_profile) × day factor``, the day factor
being 1 on working days, ``weekend_factor`` on weekends and ``holiday_factor`` on public
holidays (a 调休 weekend workday counts as a working day). Each report independently gets
a category (by ``category_weights``) and a unit grid (weighted by its households), which
makes the reports of every (category, grid) pair a Poisson process of their own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from domain.calendar import WorkingCalendar
from domain.org import District
from domain.taxonomy import Taxonomy
from sim.config import SimConfig


@dataclass(frozen=True, slots=True)
class Arrival:
    index: int  # order of arrival, from 0: the case's identity in the run
    ts: int  # epoch seconds
    category: str
    grid: str


def day_factor(config: SimConfig, calendar: WorkingCalendar, day: date) -> float:
    if calendar.is_working_day(day):
        return 1.0
    return config.holiday_factor if day in calendar.holidays else config.weekend_factor


def hourly_rates(config: SimConfig, calendar: WorkingCalendar, day: date) -> list[float]:
    """Expected reports in each local hour of ``day``."""
    total = sum(config.hourly_profile) or 1.0
    scale = config.reports_per_day * day_factor(config, calendar, day) / total
    return [w * scale for w in config.hourly_profile]


def generate_arrivals(
    config: SimConfig,
    calendar: WorkingCalendar,
    district: District,
    taxonomy: Taxonomy,
    rng: random.Random,
) -> list[Arrival]:
    categories = [c.code for c in taxonomy]
    category_cum = list(accumulate(config.category_weight(c) for c in categories))
    grids = [g.code for g in district.grids]
    grid_cum = list(accumulate(float(g.households or 1) for g in district.grids))
    first = date.fromisoformat(config.start)
    tz = calendar.tz
    arrivals: list[Arrival] = []
    for d in range(config.days):
        day = first + timedelta(days=d)
        for hour, rate in enumerate(hourly_rates(config, calendar, day)):
            if rate <= 0:
                continue
            begin = int(datetime.combine(day, time(hour), tzinfo=tz).timestamp())
            # Exponential gaps give a Poisson count with uniform times inside the hour.
            offset = rng.expovariate(rate / 3600.0)
            while offset < 3600.0:
                category = rng.choices(categories, cum_weights=category_cum)[0]
                grid = rng.choices(grids, cum_weights=grid_cum)[0]
                arrivals.append(Arrival(len(arrivals), begin + int(offset), category, grid))
                offset += rng.expovariate(rate / 3600.0)
    return arrivals
