"""Step "regions": provinces, cities and the districts of large cities, and the territory units
dealers are given (a city, or one district of a split city)."""
from __future__ import annotations

from dataclasses import dataclass

from app.demo.data_regions import CITY_DISTRICTS, CITY_POPULATION, PROVINCES, UNCOVERED_CITIES, short_name


@dataclass(frozen=True)
class RegionInfo:
    id: int
    name: str
    level: int
    province_id: int
    path_ids: tuple[int, ...]  # the region and its ancestors, root first


@dataclass(frozen=True)
class TerritoryUnit:
    """Where retailers live and what one dealer territory row covers."""

    region_id: int
    place: str  # short local name used in shop names, e.g. "海淀" or "绍兴"
    province: str
    population: float  # millions: how many retailers it gets
    covered: bool  # False for the remote cities no dealer serves


def build_regions(ctx) -> None:
    rows: list[tuple] = []
    regions: dict[int, RegionInfo] = {}
    units: list[TerritoryUnit] = []
    province_ids: dict[str, int] = {}
    ids = iter(ctx.loader.allocate_ids("regions", _region_count()))

    def add(code: str, name: str, level: int, parent: RegionInfo | None) -> RegionInfo:
        region_id = next(ids)
        path_ids = (parent.path_ids if parent else ()) + (region_id,)
        info = RegionInfo(region_id, name, level, path_ids[0], path_ids)
        regions[region_id] = info
        path = "/" + "/".join(map(str, path_ids)) + "/"
        rows.append((region_id, code, name, level, parent.id if parent else None, path))
        return info

    for prefix, province_name, typical_population, city_names in PROVINCES:
        province = add(prefix, province_name, 1, None)
        province_ids[province_name] = province.id
        for city_number, city_name in enumerate(city_names.split(), start=1):
            city = add(f"{prefix}{city_number:02d}", city_name, 2, province)
            population = CITY_POPULATION.get(city_name, typical_population)
            covered = (province_name, city_name) not in UNCOVERED_CITIES
            districts = CITY_DISTRICTS.get((province_name, city_name), "").split()
            if not districts:
                units.append(TerritoryUnit(city.id, short_name(city_name), province_name, population, covered))
            for district_number, district_name in enumerate(districts, start=1):
                district = add(f"{prefix}{city_number:02d}{district_number:02d}", district_name, 3, city)
                units.append(TerritoryUnit(district.id, short_name(district_name), province_name,
                                           population / len(districts), covered))

    ctx.loader.load("regions", ("id", "code", "name", "level", "parent_id", "path"), rows)
    ctx.regions = regions
    ctx.province_ids = province_ids
    ctx.units = units


def _region_count() -> int:
    cities = sum(len(p[3].split()) for p in PROVINCES)
    districts = sum(len(d.split()) for d in CITY_DISTRICTS.values())
    return len(PROVINCES) + cities + districts
