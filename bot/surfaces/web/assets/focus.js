
const focus = () => {
  let tries = 0;
  const go = () => {
    const mark = element.querySelector('#nb-article-focus');
    const target = mark || element.querySelector('.nb-article');
    if (target && target.getClientRects().length) {
      target.scrollIntoView({block: mark ? 'center' : 'start'});
    } else if (++tries < 60) {
      setTimeout(go, 50);
    }
  };
  go();
};
focus();
watch('value', focus);
