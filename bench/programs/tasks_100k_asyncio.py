#!/usr/bin/python3
"""tasks_100k_asyncio.py — the asyncio side of issue 18's comparison with tasks_100k.cfp:
100,000 coroutines that each sleep 20 ms and return i % 10, all gathered; prints the sum."""
import asyncio


async def job(i):
    await asyncio.sleep(0.02)
    return i % 10


async def main():
    rs = await asyncio.gather(*(job(i) for i in range(100000)))
    print(sum(rs))


asyncio.run(main())
