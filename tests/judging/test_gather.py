import anyio
import pytest

from medarc_inspect.judging.gather import gather


async def test_results_come_back_in_call_order_and_calls_overlap():
    running, peak = 0, 0

    async def call(value: int, delay: float) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(delay)
        running -= 1
        return value

    results = await gather(*(call(i, 0.05 * (5 - i)) for i in range(5)))
    assert results == [0, 1, 2, 3, 4]  # the last call finishes first
    assert peak == 5  # all five were in flight at once


async def test_the_first_failure_is_raised_bare_with_its_own_cause_and_the_rest_are_cancelled():
    cause = OSError("disk full")
    finished = []

    async def fails() -> int:
        await anyio.sleep(0.01)
        raise RuntimeError("judge could not be asked") from cause

    async def slow() -> int:
        await anyio.sleep(5)
        finished.append(True)
        return 1

    with pytest.raises(RuntimeError, match="could not be asked") as caught:
        await gather(slow(), fails())
    assert caught.value.__cause__ is cause
    assert not finished


async def test_a_single_call_and_no_calls():
    async def one() -> str:
        return "x"

    assert await gather(one()) == ["x"]
    assert await gather() == []
