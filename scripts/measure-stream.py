#!/usr/bin/env python3
"""Measures the live stream.log against a fresh emulator: the latency from the emulator sending a
message.partial event to a poll()ing reader seeing its bytes (p50/p99), and the daemon's CPU
while 20 tasks stream at once, and the time from writing prompt.txt to the agent's first word
visible to a reader of stream.log. Usage: measure-stream.py PATH/TO/synapsefs [EMULATOR ARGS…]
(e.g. --latency-ms 50 --bandwidth-mbps 200: a distant server)"""
import json, os, re, select, shutil, signal, statistics, subprocess, sys, tempfile, time

binary, emulator_args = sys.argv[1], sys.argv[2:]
root = tempfile.mkdtemp(prefix="synapsefs-measure-")
key = "measure-key"
env = dict(os.environ, INFINISYNAPSE_API_KEY=key)
events_file = os.path.join(root, "events.log")
emu = subprocess.Popen([binary, "emulator", "--data-dir", os.path.join(root, "emu"), "--api-key", key,
                        "--event-log", events_file, *emulator_args], stdout=subprocess.PIPE, text=True)
url = emu.stdout.readline().split()[-1]
mnt = os.path.join(root, "mnt"); os.mkdir(mnt)
subprocess.run([binary, "mount", mnt, "--server", url, "--cache-dir", os.path.join(root, "cache")], env=env, check=True,
               stdout=subprocess.DEVNULL)
daemon = int(subprocess.run(["pgrep", "-f", f"synapsefs mount {mnt}"], capture_output=True, text=True).stdout.split()[0])

def status(folder):
    with open(f"{mnt}/tasks/{folder}/status") as f: return f.read().strip()

def task_id(folder):
    with open(f"{mnt}/tasks/{folder}/info.json") as f: return json.load(f)["id"]

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

try:
    # 0. Prompt to first word: a reader blocked in poll() on stream.log, then prompt.txt written.
    os.mkdir(f"{mnt}/tasks/first")
    fd = os.open(f"{mnt}/tasks/first/stream.log", os.O_RDONLY)
    poller = select.poll(); poller.register(fd, select.POLLIN)
    log, first_word = b"", None
    written = time.time()
    with open(f"{mnt}/tasks/first/prompt.txt", "w") as f: f.write("First word [emu:words 20]")
    while time.time() - written < 30 and first_word is None:
        if poller.poll(200):
            log += os.read(fd, 1 << 20)
            m = re.search(rb"\] agent\n\S", log)
            if m: first_word = time.time()
    os.close(fd)
    tid = task_id("first")
    sent = [float(l.split()[0]) for l in open(events_file) if l.split()[2] == tid and l.split()[1] == "message.partial"]
    if first_word and sent:
        print(f"prompt to first visible word: {(first_word - written) * 1000:.1f} ms "
              f"(the server sent it {(min(sent) - written) * 1000:.1f} ms after the write)")
    else:
        print("prompt to first visible word: not seen within 30 s")

    # 1. Latency: one task, 600 snapshots, a reader blocked in poll() at the end of the log.
    os.mkdir(f"{mnt}/tasks/latency")
    fd = os.open(f"{mnt}/tasks/latency/stream.log", os.O_RDONLY)
    poller = select.poll(); poller.register(fd, select.POLLIN)
    with open(f"{mnt}/tasks/latency/prompt.txt", "w") as f: f.write("Latency run [emu:words 3000] [emu:delay 10]")
    seen, log = [], b""
    deadline = time.time() + 60
    while time.time() < deadline and status("latency") != "completed":
        if poller.poll(200):
            chunk = os.read(fd, 1 << 20)
            log += chunk
            seen.append((time.time(), len(log)))
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk: break
        log += chunk; seen.append((time.time(), len(log)))
    tid = task_id("latency")
    start = log.index(b"] agent\n") + len(b"] agent\n")
    latencies = []
    for line in open(events_file):
        t, kind, task, length = line.split()
        if task != tid or kind != "message.partial": continue
        target = start + int(length)
        arrival = next((ts for ts, n in seen if n >= target), None)
        if arrival is not None: latencies.append((arrival - float(t)) * 1000)
    os.close(fd)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"latency over {len(latencies)} message.partial events: p50 {p(0.50):.2f} ms, p99 {p(0.99):.2f} ms, max {latencies[-1]:.2f} ms")

    # 2. CPU: 20 tasks streaming at once.
    folders = [f"busy{i:02d}" for i in range(20)]
    for folder in folders: os.mkdir(f"{mnt}/tasks/{folder}")
    cpu0, emu0, wall0 = cpu_seconds(daemon), cpu_seconds(emu.pid), time.time()
    for folder in folders:
        with open(f"{mnt}/tasks/{folder}/prompt.txt", "w") as f: f.write("Busy [emu:words 1500] [emu:delay 20]")
    while time.time() - wall0 < 120 and not all(status(f) == "completed" for f in folders): time.sleep(0.2)
    cpu1, emu1, wall1 = cpu_seconds(daemon), cpu_seconds(emu.pid), time.time()
    events = sum(1 for line in open(events_file) if line.split()[1] == "message.partial") - len(latencies)
    print(f"20 tasks streaming: {wall1 - wall0:.1f} s, {events} partial events; daemon CPU {100 * (cpu1 - cpu0) / (wall1 - wall0):.1f}% "
          f"of one core (emulator {100 * (emu1 - emu0) / (wall1 - wall0):.1f}%)")
    rss = [l for l in open(f"/proc/{daemon}/status") if l.startswith("VmHWM")][0].split()[1]
    print(f"daemon peak RSS {int(rss) // 1024} MiB")
finally:
    subprocess.run([binary, "unmount", mnt])
    emu.send_signal(signal.SIGTERM); emu.wait()
    shutil.rmtree(root, ignore_errors=True)
