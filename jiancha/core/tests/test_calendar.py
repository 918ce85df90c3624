import datetime

from jiancha.core.calendar import add_months, is_working_day, period_end

D = datetime.date


def test_first_day_is_not_counted():
    assert period_end(D(2024, 3, 4), days=7, in_custody=True) == D(2024, 3, 11)


def test_period_ending_on_a_weekend_moves_to_monday():
    # 2024-03-09 is a Saturday.
    assert period_end(D(2024, 3, 2), days=7) == D(2024, 3, 11)


def test_period_ending_in_a_holiday_moves_past_it():
    # 2024-10-01..07 National Day holiday; 10-08 is the first working day.
    assert period_end(D(2024, 9, 28), days=5) == D(2024, 10, 8)


def test_custody_period_is_not_extended_by_holidays():
    assert period_end(D(2024, 9, 28), days=5, in_custody=True) == D(2024, 10, 3)


def test_make_up_working_day_counts_as_working():
    # 2024-09-29 is a Sunday but a make-up working day (调休).
    assert is_working_day(D(2024, 9, 29))
    assert period_end(D(2024, 9, 22), days=7) == D(2024, 9, 29)


def test_months_end_on_same_day_or_month_end():
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2023, 11, 15), 3) == D(2024, 2, 15)
    assert period_end(D(2024, 1, 31), months=1, in_custody=True) == D(2024, 2, 29)
