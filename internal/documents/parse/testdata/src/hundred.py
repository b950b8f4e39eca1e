# Writes hundred.fodt: 100 pages of accounting-flavoured text (page breaks
# before each "Page N summary of accounts" heading), for the extraction
# benchmark. Deterministic (fixed seed). Run by gen.sh.
import random

words = ("account balance ledger invoice payment receipt audit revenue expense asset liability equity "
         "accrual deferral depreciation amortization reconciliation statement journal entry tax return "
         "client engagement schedule quarter fiscal year budget forecast variance").split()
random.seed(7)
paras = []
for page in range(1, 101):
    style = "PB" if page > 1 else "Standard"
    paras.append(f'<text:p text:style-name="{style}">Page {page} summary of accounts</text:p>')
    for _ in range(6):
        s = " ".join(random.choice(words) for _ in range(55))
        s = s[0].upper() + s[1:] + f" Amount {random.randint(100, 99999)}.{random.randint(10, 99)}."
        paras.append(f'<text:p text:style-name="Standard">{s}</text:p>')
src = open("report.fodt").read()
start = src.index("<office:text>") + len("<office:text>")
end = src.index("</office:text>")
open("hundred.fodt", "w").write(src[:start] + "\n" + "\n".join(paras) + "\n" + src[end:])
