/// The dashboard's stylesheet and script, served by the binary itself (no CDN, no network at run time).
enum DashboardAssets {
    static let stylesheet = """
        :root { --fg: #1d2430; --muted: #6b7480; --line: #d9dee5; --bg: #f7f8fa; --accent: #2160c4; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.5em; background: #1d2430; color: #fff; }
        header a { color: #dfe7f3; text-decoration: none; margin-right: 1em; }
        header .brand { font-weight: 700; color: #fff; }
        main { padding: 1em 1.5em 3em; max-width: 1400px; }
        h1 { font-size: 1.35em; margin: .4em 0 .8em; word-break: break-all; }
        h2 { font-size: 1.1em; margin: 1.4em 0 .5em; }
        table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); margin-bottom: 1em; }
        th, td { text-align: left; padding: .35em .7em; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f5; font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        a { color: var(--accent); }
        pre { background: #fff; border: 1px solid var(--line); padding: .6em; overflow: auto; max-height: 28em; }
        .muted { color: var(--muted); }
        .badge { background: #b3541e; color: #fff; padding: .1em .5em; border-radius: 3px; }
        .notice { background: #e6f4ea; border: 1px solid #9ccfaa; padding: .5em .8em; }
        .error { background: #fdecea; border: 1px solid #f0a8a0; padding: .5em .8em; }
        form.inline { display: inline; margin-right: .4em; }
        button { font: inherit; padding: .25em .8em; border-radius: 3px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        button.danger { border-color: #b3261e; background: #b3261e; }
        .filters input, .filters select { font: inherit; padding: .2em .4em; margin-right: .5em; }
        .state { padding: .05em .45em; border-radius: 3px; color: #fff; font-size: .9em; }
        .state-completed { background: #2e7d32; } .state-failed { background: #c62828; } .state-active { background: #1565c0; }
        .state-waiting { background: #6d4c41; } .state-prioritized { background: #8d6e63; } .state-delayed { background: #ef6c00; }
        .state-waiting-children { background: #7b1fa2; } .state-gone { background: #757575; }
        .state-running { background: #1565c0; } .state-cancelled { background: #757575; }
        .counts { display: flex; flex-wrap: wrap; gap: .6em; margin-bottom: 1em; }
        .counts a, .counts span.count { display: block; background: #fff; border: 1px solid var(--line); padding: .4em .8em; min-width: 7em; text-decoration: none; color: var(--fg); }
        .counts b { display: block; font-size: 1.3em; }
        .dag { background: #fff; border: 1px solid var(--line); overflow: auto; max-height: 80vh; }
        .dag svg text { font: 12px system-ui, sans-serif; pointer-events: none; }
        .dag svg text.detail { fill: #444; }
        .dag .edge { stroke: #9aa3ad; fill: none; }
        .dag .node rect { stroke: #333; stroke-width: .5; }
        .dag a:hover rect { stroke-width: 2; }
        """

    /// The tab icon (browsers ask for /favicon.ico whatever the page says; both paths serve it).
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2430"/>\
        <path d="M3 4h10M8 4v9M5 13h6" stroke="#90caf9" stroke-width="2" fill="none"/></svg>
        """

    static let script = """
        // Live update of a run page: every few seconds the drawing is read again while the run is running.
        (function () {
          var dag = document.querySelector('[data-live]');
          if (!dag) return;
          function refresh() {
            fetch(dag.getAttribute('data-live'), { credentials: 'same-origin' })
              .then(function (response) { return response.ok ? response.text() : null; })
              .then(function (html) {
                if (html === null) return;
                dag.innerHTML = html;
                var status = dag.querySelector('[data-status]');
                if (status && status.getAttribute('data-status') === 'running') setTimeout(refresh, 2000);
              })
              .catch(function () { setTimeout(refresh, 5000); });
          }
          var status = dag.querySelector('[data-status]');
          if (status && status.getAttribute('data-status') === 'running') setTimeout(refresh, 2000);
        })();
        """
}
