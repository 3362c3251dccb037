
() => {
  document.addEventListener('click', (ev) => {
    const open = ev.target && ev.target.closest ? ev.target.closest('a.nb-open') : null;
    if (open) {
      ev.preventDefault();
      ev.stopPropagation();
      const d = open.dataset;
      const detail = d.article !== undefined ? {article: d.article} : {turn: Number(d.turn), n: Number(d.n)};
      if (window.nbOpenArticle) window.nbOpenArticle(detail);
      return;
    }
    const a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#nb-cite-"]') : null;
    if (!a) return;
    const el = document.getElementById(a.getAttribute('href').slice(1));
    if (!el) return;
    ev.preventDefault();
    ev.stopPropagation();
    document.querySelectorAll('.nb-source.nb-active').forEach((x) => x.classList.remove('nb-active'));
    el.classList.add('nb-active');
    el.scrollIntoView({behavior: 'smooth', block: 'center'});
  }, true);
}
