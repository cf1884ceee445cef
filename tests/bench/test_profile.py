"""The profile's sorting of perf samples into categories (no perf run here)."""

from vernat.bench import profile as P


def test_samples_fall_where_the_readme_says():
    k = "[kernel.kallsyms]"
    assert P.categorize(k, "veth_xdp_rcv").startswith("AF_XDP receive")
    assert P.categorize(k, "__xsk_generic_xmit").startswith("AF_XDP transmit")
    assert P.categorize(k, "nf_nat_ipv4_out").startswith("Linux forwarding")
    assert P.categorize(k, "ip_rcv_core").startswith("Linux forwarding")
    assert P.categorize(k, "finish_task_switch.isra.0").startswith("scheduling")
    assert P.categorize(k, "handle_softirqs").startswith("interrupt exit")
    assert P.categorize(k, "kmem_cache_alloc_node_noprof").startswith("memory")
    assert P.categorize(k, "do_syscall_64").startswith("system calls")
    assert P.categorize("[unknown]", "0x7f00deadbeef") == P.USER_NUMBA
    assert P.categorize("/usr/lib/libpython3.11.so.1.0", "_PyEval_EvalFrameDefault") == \
        P.USER_PYTHON
    assert P.categorize(k, "some_new_kernel_function") == P.OTHER


def test_the_idle_loop_is_not_work():
    assert P.IDLE.match("pv_native_safe_halt") and P.IDLE.match("default_idle_call")
    assert not P.IDLE.match("veth_poll")
