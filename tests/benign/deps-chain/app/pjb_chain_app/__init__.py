from pjb_chain_lib import scale


def run():
    return scale(21)
