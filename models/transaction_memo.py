# License LGPL-3 (https://www.gnu.org/licenses/lgpl-3.0.html).
from contextlib import contextmanager


@contextmanager
def transaction_memo(cr, key, value):
    """Keep ``value`` in the cursor's cache under ``key`` for the time of the block, then give back
    what was there before (a call nested in another keeps its own): what one operation looks up
    once for all its steps (an email's routing, a batch of tickets' defaults).

    :param cr: the cursor
    :param str key: key in ``cr.cache``
    """
    cache = cr.cache
    outer = cache.get(key)
    cache[key] = value
    try:
        yield value
    finally:
        if outer is None:
            cache.pop(key, None)
        else:
            cache[key] = outer
