"""Synthetic patient demographics: names, sex and birth dates (task-given ones kept exactly)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

FEMALE = [
    "Maria",
    "Dana",
    "Katrina",
    "Glenda",
    "Margaret",
    "Emily",
    "Pamela",
    "Denise",
    "Debra",
    "Shannon",
    "Melissa",
    "Tina",
    "Julie",
    "Katherine",
    "Victoria",
    "Tracey",
    "Alice",
    "Brenda",
    "Carla",
    "Diane",
    "Elena",
    "Fiona",
    "Grace",
    "Helen",
    "Irene",
    "Joan",
    "Karen",
    "Laura",
    "Monica",
    "Nora",
    "Olivia",
    "Paula",
    "Rachel",
    "Sandra",
    "Teresa",
    "Ursula",
    "Vanessa",
    "Wendy",
    "Yvonne",
    "Zoe",
]
MALE = [
    "Peter",
    "James",
    "Justin",
    "Andrew",
    "Kevin",
    "Brian",
    "Joshua",
    "Tim",
    "Christopher",
    "Robert",
    "Russell",
    "Kyle",
    "Aaron",
    "Bruce",
    "Carl",
    "Daniel",
    "Edward",
    "Frank",
    "George",
    "Henry",
    "Isaac",
    "Jack",
    "Keith",
    "Leon",
    "Martin",
    "Nathan",
    "Oscar",
    "Patrick",
    "Quentin",
    "Ray",
    "Samuel",
    "Thomas",
    "Victor",
    "Walter",
    "Xavier",
    "Yusuf",
    "Zachary",
    "Dennis",
    "Gerald",
    "Howard",
]
FAMILY = [
    "Abbott",
    "Barlow",
    "Castillo",
    "Delgado",
    "Ellison",
    "Fairbanks",
    "Garrison",
    "Holloway",
    "Ingram",
    "Jennings",
    "Kowalski",
    "Lindqvist",
    "Mercer",
    "Nakamura",
    "Okafor",
    "Pennington",
    "Quintero",
    "Rasmussen",
    "Salazar",
    "Thornton",
    "Underwood",
    "Valdez",
    "Whitfield",
    "Yamamoto",
    "Zielinski",
    "Ashford",
    "Bramble",
    "Cortez",
    "Dunmore",
    "Everly",
    "Fontaine",
    "Galloway",
    "Hartigan",
    "Iverson",
    "Jaramillo",
    "Kessler",
    "Lockhart",
    "Montoya",
    "Northcott",
    "Oyelaran",
    "Prescott",
    "Radcliffe",
    "Sorensen",
    "Tremblay",
    "Vance",
    "Winslow",
]
CITIES = [
    ("Palo Alto", "94301"),
    ("Menlo Park", "94025"),
    ("Mountain View", "94040"),
    ("San Jose", "95112"),
    ("Redwood City", "94061"),
    ("Sunnyvale", "94086"),
    ("Fremont", "94536"),
    ("San Mateo", "94401"),
]


@dataclass(frozen=True)
class Person:
    mrn: str
    given: str
    family: str
    gender: str
    birth_date: str
    city: str
    postal_code: str
    phone: str


def gender_of(given: str) -> str:
    """FHIR administrative gender guessed from a given name (``unknown`` when not in the lists)."""
    return "female" if given in FEMALE else "male" if given in MALE else "unknown"


def random_birth_date(rng: random.Random, month_day: tuple[int, int] | None = None) -> str:
    """A birth date between 1930 and 2003 (on ``month_day`` when given)."""
    if month_day is not None:
        return date(rng.randint(1935, 2000), *month_day).isoformat()
    return (date(1930, 1, 1) + timedelta(days=rng.randint(0, 365 * 74))).isoformat()


def make_person(
    rng: random.Random,
    mrn: str,
    *,
    given: str | None = None,
    family: str | None = None,
    birth_date: str | None = None,
    gender: str | None = None,
) -> Person:
    """A patient; unspecified fields are drawn from ``rng`` (generated names never use a task's family)."""
    if given is None:
        gender = gender or rng.choice(("female", "male"))
        given = rng.choice(FEMALE if gender == "female" else MALE)
    family = family or rng.choice(FAMILY)
    city, postal = rng.choice(CITIES)
    phone = f"(650) 555-{rng.randint(0, 9999):04d}"
    return Person(
        mrn, given, family, gender or gender_of(given), birth_date or random_birth_date(rng), city, postal, phone
    )
